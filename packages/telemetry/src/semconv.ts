/**
 * The attribute and metric names the mesh uses, from OpenTelemetry's MCP, GenAI, RPC and
 * messaging conventions (status Development, so kept here rather than imported as incubating).
 */
export const Attr = {
  McpMethodName: 'mcp.method.name',
  McpSessionId: 'mcp.session.id',
  McpProtocolVersion: 'mcp.protocol.version',
  McpResourceUri: 'mcp.resource.uri',
  GenAiToolName: 'gen_ai.tool.name',
  GenAiPromptName: 'gen_ai.prompt.name',
  GenAiOperationName: 'gen_ai.operation.name',
  JsonRpcRequestId: 'jsonrpc.request.id',
  RpcResponseStatusCode: 'rpc.response.status_code',
  ErrorType: 'error.type',
  NetworkTransport: 'network.transport',
  MessagingSystem: 'messaging.system',
  MessagingDestinationName: 'messaging.destination.name',
  MessagingOperationName: 'messaging.operation.name',
  MessagingOperationType: 'messaging.operation.type',
  MessagingConsumerGroupName: 'messaging.consumer.group.name',
  /** The mesh's own: which MCP server of the mesh, which replica, which principal. */
  MeshServer: 'mcp_mesh.server',
  MeshInstance: 'mcp_mesh.instance',
  MeshPrincipal: 'mcp_mesh.principal',
  MeshErrorCode: 'mcp_mesh.error.code',
} as const;

export const Metric = {
  ServerOperationDuration: 'mcp.server.operation.duration',
  ClientOperationDuration: 'mcp.client.operation.duration',
  RequestsInFlight: 'mcp_mesh.requests.in_flight',
  ToolCalls: 'mcp_mesh.tool.calls',
  ToolResultTokens: 'mcp_mesh.tool.result.tokens',
  UpstreamRestarts: 'mcp_mesh.upstream.restarts',
  SessionDuration: 'mcp.server.session.duration',
  AuditPending: 'mcp_mesh.audit.pending',
  PolicyDenials: 'mcp_mesh.policy.denials',
  BreakerState: 'mcp_mesh.breaker.state',
  BalancedReplicas: 'mcp_mesh.balancer.replicas',
  ReplicaCallsInFlightMin: 'mcp_mesh.balancer.replica_calls_in_flight.min',
  ReplicaCallsInFlightMax: 'mcp_mesh.balancer.replica_calls_in_flight.max',
  BalancerRequeues: 'mcp_mesh.balancer.requeues',
} as const;

export const MESSAGING_SYSTEM = 'nats';
/** JSON-RPC errors that are the client's fault, not the server's (not `error.type` server failures). */
export const CLIENT_ERROR_CODES: ReadonlySet<number> = new Set([-32700, -32600, -32601, -32602]);

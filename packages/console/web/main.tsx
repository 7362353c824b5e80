import { render } from 'preact';
import { App } from './app.js';

const root = document.getElementById('app')!;
// The shell's "Loading…" line goes: render() only diffs what Preact itself rendered.
root.replaceChildren();
render(<App />, root);

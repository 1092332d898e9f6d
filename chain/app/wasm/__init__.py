"""The wasm module: code store, contract instances, calls, dispatch of their messages, queries."""

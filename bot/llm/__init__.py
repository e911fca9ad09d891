"""The model layer, a leaf: the DeepSeek client, its wire format, typed errors, prices,
and the `ChatModel` seam the rest of the core depends on. It imports nothing else of
supportbot (settings arrive as constructor arguments, from the wiring)."""

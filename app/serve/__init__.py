"""``kexue serve`` and ``kexue mcp``: the answering API over HTTP (OpenAI-compatible) and MCP."""

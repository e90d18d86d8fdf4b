"""The MCP front door: paperwire's use cases as tools for agents (server.py), over stdio
(`paperwire mcp`) and streamable HTTP at /mcp (http.py, mounted by the web app)."""

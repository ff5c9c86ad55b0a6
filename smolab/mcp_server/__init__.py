"""smolab as an MCP server: its abilities as tools for other agents."""

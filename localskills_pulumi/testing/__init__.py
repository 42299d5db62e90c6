"""Test infrastructure: Pulumi's dynamic-provider host driven like the engine, and a mock engine."""

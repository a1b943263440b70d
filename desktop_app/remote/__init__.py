"""Remote model servers: an OpenAI-compatible client, the engine that uses it, and where
their API keys are kept. No Qt; the session layer decides which servers exist."""

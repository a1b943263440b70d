"""The chat mode's panes: the conversation list, the open chat and its settings panel."""

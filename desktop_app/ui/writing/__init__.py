"""The writing mode's panes: the drafts list, the editor, the suggestion pane, the
co-writer's controller, and the writing pane that puts them together."""

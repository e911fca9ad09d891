"""Answers from the team's own docs: sources, chunking, the index, retrieval, citations."""

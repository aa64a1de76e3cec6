"""Warnings a reader collects: what it skipped or guessed, and why, counted rather than repeated."""

from __future__ import annotations


class Notes:
    """Warnings grouped by kind, each kept once with how often it happened and a few examples."""

    EXAMPLES = 3

    def __init__(self) -> None:
        self._notes: dict[str, list] = {}

    def add(self, kind: str, message: str, example: str | None = None) -> None:
        """Record one occurrence of a warning of ``kind`` ("{n}" in the message counts them)."""
        note = self._notes.get(kind)
        if note is None:
            note = self._notes[kind] = [message, 0, []]
        note[1] += 1
        if example is not None and len(note[2]) < self.EXAMPLES and example not in note[2]:
            note[2].append(example)

    def render(self) -> list[str]:
        """Return the warnings as sentences, in the order they first happened."""
        lines = []
        for message, count, examples in self._notes.values():
            text = message.replace("{n}", str(count))
            if examples:
                more = ", …" if count > len(examples) else ""
                text += " (" + ", ".join(examples) + more + ")"
            lines.append(text)
        return lines

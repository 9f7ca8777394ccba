"""What an exercise's tests need: the check, a reference answer, wrong answers.

``tests/test_exercises.py`` runs every :class:`Exercise` it finds: those it
defines for lessons 00-05 and 11, and the ``EXERCISES`` list of each
``tests/exercise_cases_<topic>.py`` (one file per later lesson, so lessons
written side by side never edit the same file).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Exercise:
    check: object
    solution: object
    wrong: dict = field(default_factory=dict)  # name -> (answer, expected text)

    @property
    def name(self) -> str:
        return f"{self.check.__module__.rsplit('.', 1)[-1]}.{self.check.__name__}"


def _stub(*args):
    raise NotImplementedError("replace this line with your answer")

"""Checks for the lessons' exercises: one module per lesson.

Use them as ``from recsys_helpers.exercises import lesson00`` and call
``lesson00.check_xxx(your_function)``. A stub that still raises
``NotImplementedError`` gets a hint; a wrong answer gets what went wrong and
the hint; a correct answer passes. Every check returns True or False, so a
solution notebook can ``assert`` it.
"""

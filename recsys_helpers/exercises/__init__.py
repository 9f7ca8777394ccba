"""Checks for the lessons' exercises: one module per topic.

=====================  ===================================
module                 lesson
=====================  ===================================
``getting_started``    ``00_getting_started``
``content``            ``01_content_filtering``
``collaborative``      ``02_collaborative_filtering``
``factorization``      ``03_matrix_factorization``
``ranking_losses``     ``04_ranking_losses``
``two_tower``          ``05_two_tower``
``sequential``         ``06_sequential``
``multi_stage``        ``07_multi_stage``
``serving``            ``08_serving``
``scaling``            ``09_scaling_out``
``online_evaluation``  ``10_online_evaluation``
``comparison``         ``11_comparison``
=====================  ===================================

Use them as ``from recsys_helpers.exercises import collaborative`` and call
``collaborative.check_xxx(your_function)``. A stub that still raises
``NotImplementedError`` gets a hint; a wrong answer gets what went wrong and
the hint; a correct answer passes. Every check returns a
:class:`~recsys_helpers.exercises._core.CheckResult`: truthy exactly when the
answer passes (so a solution notebook can ``assert`` it) and displayed as
nothing in a notebook (the printed line says it all).
"""

from recsys_helpers.exercises._core import CheckResult

__all__ = ["CheckResult"]

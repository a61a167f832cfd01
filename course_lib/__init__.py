"""course_lib: the library behind the developmental-interpretability course.

One module per job (``runtime``, ``cache``, ``widgets``, ``exercises``) and one subpackage per
chapter (``color``, ...). Notebooks stay thin and call into here.
"""

__version__ = "0.1.0"

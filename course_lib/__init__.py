"""course_lib: the library behind the developmental-interpretability course.

Notebooks stay thin and call into here. Shared modules:

* :mod:`.runtime`        — device, profile (quick / standard / full) and CPU threads
* :mod:`.cache`          — the on-disk cache of trained models and computed results
* :mod:`.checkpoints`    — the one checkpoint protocol of every run (``checkpoint_steps``, ``model_at``)
* :mod:`.widgets`        — sliders that work in a live kernel and in the static book; progress bars
* :mod:`.exercises`      — the exercise-checking machinery every chapter's checkers use
* :mod:`.validation`     — argument checks (wrong type: TypeError, wrong value: ValueError, named)
* :mod:`.figures`        — the figure kit every plot module uses (figures without pyplot, markers)
* :mod:`.stats`          — rates with Wilson intervals, rank and Pearson correlations
* :mod:`.encoders`       — real text encoders (MiniLM, CLIP's text encoder), every layer (chapters 3–4)
* :mod:`.sync_notebooks` — writes the Colab set-up cell into every chapter notebook

One subpackage per chapter:

* :mod:`.color`      — chapter 1, colour embeddings
* :mod:`.curriculum` — chapter 2, curriculum & anchoring
* :mod:`.identity`   — chapter 3, names & identity
* :mod:`.modular`    — modular addition and grokking (chapter 3, used again in chapter 5)
* :mod:`.mapper`     — chapter 4, Mapper on activations
* :mod:`.slt`        — chapter 5, SLT spectroscopy
"""

__version__ = "0.1.0"

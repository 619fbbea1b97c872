"""The CPU-budget experiment of docs/results.md: its rows (``rows``), the folder that holds
their runs (``work_root``), how a row trains and is tested (``runner``), and the tables
(``tables``), paired statistics (``paired``) and figures (``figures``) drawn from them.
``python tools/analysis_tools/reproduce_results.py`` is its command line (``cli``).

Nothing in the rest of the package imports this one.
"""

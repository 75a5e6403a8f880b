"""LogsMonitor2000: streaming analytics for web access logs and MongoDB audit logs.

The data flows one way, one module per stage::

    sources      bytes from a file, a pipe or a growing file, as blocks of complete lines
    parsers/     lines -> events, folded straight into the Batch of their second
    reorder      allowed lateness: open seconds wait in a heap, closed ones leave in order
    window       sliding and tumbling windows feed closed Batches to the calculators
    calculators/ count / discount / report: traffic alert, stats, slow queries
    output/      text for people, JSON lines for scripts

``monitor`` wires the stages together and ``cli`` turns the command line into a run.
Standard library only.
"""

__version__ = "1.0.0"

# SPDX-License-Identifier: MIT
"""results/plotlib - the parts of results/plot.py, split by job.

csvread   the results-CSV reader (harness/analysis/csv-read.c's rules), cells, ok values
events    the events-file reader (pauses and runs for mmu, memory samples for memory)
stats     median, quantiles, CV, bootstrap intervals (harness/analysis/resample.c's)
style     colours and labels shared by the figures
output    atomic writing of the figure, --print-stats
kind_*    one module per figure kind: HELP (its --help paragraph), INPUT ("results" or
          "events"), columns(args) (what load() must find and check), optionally
          prepare(rows), and draw(data, args, plt) -> (figure, stats header, stats rows)
"""

"""What `inkwell eval` measures with, free of Qt, the engine and the store: data sets
(datasets), the scores (metrics, through sacrebleu and rouge-score, imported only when a
score is asked for), the paired bootstrap (bootstrap) and the reports (reports).

session/evaluation.py runs the models over a data set and stores the results.
"""

"""The eval harness behind ``kexue eval``: question files, retrieval variants, metrics and readable reports.

questions (load and validate JSON Lines), variants (registry of retrieval variants; baseline: llama-index
defaults), runner (run every question), answer_eval and judge/keypoints (score answers), metrics, report
(report.json), markdown (report.md), plots (PNGs), output (write them all).
"""

"""The project report: one self-contained HTML page, its figures and numbers beside.

`write_report(project, out)` gathers each section's numbers from the store and
the run folders (`collect`), computes what is derived from them (`numbers`:
occupancy, time budgets, bouts), draws them (`figures`, and the stages' own
plots), and writes the page (`html`), every figure as PNG and SVG with the
table it draws as CSV (`write`). Sections are listed in `sections.SECTIONS`.
"""

from etholoop.report.sections import SECTION_IDS, SECTIONS
from etholoop.report.write import REPORT_NAME, ReportResult, files_dir, write_report

__all__ = [
    "REPORT_NAME",
    "SECTIONS",
    "SECTION_IDS",
    "ReportResult",
    "files_dir",
    "write_report",
]

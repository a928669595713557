"""Extraction: a record body in, its clauses and measures out, every span an offset into the body.

The steps, one module each, in the order data flows through them:

    text.py        mask (markup blanked, same length) and the joined view (soft breaks mended)
    clauses.py     1. clauses: headings, items, sentences, sub-clauses, table rows, formulas
    numerals.py    2. numerals: the value of a numeral in any script
    quantities.py  3-5. amounts and units, ranges and comparators, rates and frequencies
    dates.py       6. dates: start, deadline, period and point relations; English and numeric forms
    roles.py       7. roles: which policy figure a quantity states, from the cue words around it
    rules.py       8. rules: provisions that bind a party, by a modality grammar per language
    measures.py    the pipeline: runs the steps over a body and assembles Measure records

patterns.py holds the regex building blocks they share; word lists and rules are data in kb/data/.
"""

from kb.extract.clauses import Clause, split_clauses
from kb.extract.measures import KINDS, Extraction, Measure, extract, extract_text, roles
from kb.extract.numerals import parse_number
from kb.extract.quantities import Quantity, find_quantities, parse_quantity

__all__ = ["KINDS", "Clause", "Extraction", "Measure", "Quantity", "extract", "extract_text", "find_quantities",
           "parse_number", "parse_quantity", "roles", "split_clauses"]

"""Cytogenetic abnormalities from FISH results: coded answers and free text.

docs/clinical-model.md section 6: a FISH Observation counts when its value is positive/detected
(LA11882-0, SNOMED 10828004, or text saying detected/positive/present); LA11883-8
"Not detected" and negative values rule the abnormality out. Text such as "del(17p)",
"1q gain", "t(4;14)" names the abnormality when the code does not.
"""
from __future__ import annotations

import re

# Abnormality names (records.CytogeneticFinding) and the spellings labs use for them.
ABNORMALITY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.IGNORECASE))
    for name, pattern in (
        ("del17p", r"del\s*\(?\s*17\s*\)?\s*\(?\s*p|\b17p1?3?(\.1)?\s*(deletion|del\b|loss|-)|"
                   r"(deletion|loss|monosomy)\s+(of\s+)?(chromosome\s+)?17p|\btp53\s+(deletion|loss)|-17p\b"),
        ("t(4;14)", r"t\s*\(\s*4\s*;\s*14\s*\)|fgfr3\s*(::|/|-)\s*igh|igh\s*(::|/|-)\s*fgfr3|whsc1|nsd2"),
        ("t(14;16)", r"t\s*\(\s*14\s*;\s*16\s*\)|igh\s*(::|/|-)\s*maf\b|maf\s*(::|/|-)\s*igh"),
        ("gain1q", r"(gain|amp\w*|dup\w*)\s*(\(|of\s+)?\s*(chromosome\s+)?1q|\b1q(21)?(\.3)?\s*(gain|amp\w*|dup\w*)|"
                   r"\+1q\b|\bcks1b\s+(gain|amp\w*)"),
        ("del1p", r"del\s*\(?\s*1\s*\)?\s*\(?\s*p|\b1p(32)?\s*(deletion|del\b|loss)|(deletion|loss)\s+(of\s+)?1p\b|"
                  r"\bcdkn2c\s+(deletion|loss)"),
    )
)

_NEGATIVE = re.compile(
    r"\b(not\s+detected|undetected|negative|absent|not\s+present|no\s+evidence|not\s+identified|"
    r"no\s+(abnormalit\w*|deletion|gain|amplification|translocation|rearrangement)|normal|none\s+detected|"
    r"neg|no|without)\b",
    re.IGNORECASE,
)
_POSITIVE = re.compile(r"\b(detected|positive|present|identified|abnormal|pos)\b", re.IGNORECASE)
# Clause breaks: newlines, semicolons outside parentheses (t(4;14) keeps its own), and
# full stops / commas that are not decimal points.
_CLAUSE_SPLIT = re.compile(r"\n|;(?![^()]*\))|(?<!\d)[.,](?!\d)")


def polarity(text: str) -> bool | None:
    """True when the text says detected/positive, False when it says not detected/negative,
    None when it says neither."""
    if _NEGATIVE.search(text):
        return False
    if _POSITIVE.search(text):
        return True
    return None


def names_abnormality(text: str) -> bool:
    return any(pat.search(text) for _, pat in ABNORMALITY_PATTERNS)


def findings_in_text(text: str, default: bool | None, *, assume_present: bool = True) -> list[tuple[str, bool]]:
    """(abnormality, present) pairs named in free text, clause by clause.

    A clause naming an abnormality is negative when it says so ("no del(17p)",
    "t(4;14) not detected"); otherwise it takes `default` (the Observation's coded value).
    With neither, a name on its own counts as present ("1q gain") when `assume_present`,
    else it is skipped (a test name such as "del(17p) FISH" says nothing of the result).
    """
    out: list[tuple[str, bool]] = []
    for clause in _CLAUSE_SPLIT.split(text):
        if not clause or not clause.strip():
            continue
        names = [name for name, pat in ABNORMALITY_PATTERNS if pat.search(clause)]
        if not names:
            continue
        said = polarity(_strip_names(clause))
        present = said if said is not None else default
        if present is None:
            if not assume_present:
                continue
            present = True
        out.extend((n, present) for n in names)
    return out


def _strip_names(clause: str) -> str:
    """The clause without the abnormality names, so "del(17p)" is not read as "del" words
    and "normal" inside a name cannot flip polarity."""
    for _, pat in ABNORMALITY_PATTERNS:
        clause = pat.sub(" ", clause)
    return clause

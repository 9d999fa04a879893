"""The contract's sentence fields, worded (docs/assessment-contract.md#regimens).

The model hands the regimens' `warning` (`RegimenWarning`) and its own data gaps (`DataGap`)
over as codes and values; the JSON contract has each as one sentence. `CONTRACT_WORDS` is the wording `contract.to_json` takes at
the service's edge (hook pipeline, POST /assessment, the CLI, surveillance, the timeline app);
`assessment_json` is that JSON form.
"""
from __future__ import annotations

from typing import Any

from myeloma_model.contract import CODE_WORDS, DataGap, RegimenWarning, RetreatmentKept, to_json
from myeloma_model.guidance.regimens import GOEL_2024

# Short names of the warning-level cautions for the `warning` sentence.
WARNING_CAUTION_NAMES: dict[str, str] = {
    "carfilzomib-cardiac": "heart failure or cardiomyopathy (carfilzomib cardiotoxicity)",
    "renal-severe": "eGFR below 30 (lenalidomide / pomalidomide need a major dose reduction)",
}
REDUCED_INTENSITY = ("Reduced intensity: the patient is frail; doublets first, then this regimen at reduced dose "
                     "or schedule.")


def _kept(k: RetreatmentKept) -> str:
    why = []
    if k.on_drug_threshold is not None:
        why.append(f"{k.months_on_drug:.1f} months on {k.drug} > {k.on_drug_threshold:g}")
    if k.since_dose_threshold is not None:
        why.append(f"{k.months_since_last_dose:.1f} months since its last dose > {k.since_dose_threshold:g}")
    return f"{k.drug} ({'; '.join(why)})"


def retreatment_sentence(kept: tuple[RetreatmentKept, ...]) -> str:
    return ("The disease is refractory to " + ", ".join(_kept(k) for k in kept) + "; kept only because the "
            f"retreatment signal holds ({GOEL_2024.trial}: {GOEL_2024.figures}).")


def caution_sentence(cautions: tuple[str, ...]) -> str:
    return "Caution: " + "; ".join(WARNING_CAUTION_NAMES.get(c, c) for c in cautions) + "."


def _stale_active(g: DataGap) -> str:
    return (f"{g.get('drug')}: recorded as active, but the latest evidence is from {g.get('lastSeen').isoformat()} "
            f"(more than {g.get('days')} days before the as-of date); whether it is still taken is not known")


def _staging_outside_window(g: DataGap) -> str:
    return (f"staging: no {g.get('analyte')} result within {g.get('windowDays')} days of the diagnosis date; "
            f"the latest ({g.get('used').isoformat()}) was used (staging at relapse)")


# The model's data-gap codes, worded (free text in `dataGaps`; the cards shorten it further).
DATA_GAP_TEXT = {
    "cr-not-confirmed-no-immunofixation": lambda g: f"line {g.get('line')}: CR not confirmed: no immunofixation",
    "cr-without-marrow-assessment": lambda g: f"line {g.get('line')}: CR without marrow assessment",
    "stale-active-medication": _stale_active,
    "drug-not-classed": lambda g: f"drug '{g.get('drug')}' is not in the model's drug-class table; not assessed",
    "exposure-undated": lambda g: f"{g.get('drug')}: exposure without dates; time on drug and refractoriness unknown",
    "staging-no-result": lambda g: f"staging: no {g.get('analyte')} result on record",
    "staging-outside-window": _staging_outside_window,
}


def gap_text(gap: str | DataGap) -> str:
    """A data gap as the `dataGaps` sentence (the mapping's and the service's are already text)."""
    if isinstance(gap, DataGap):
        word = DATA_GAP_TEXT.get(gap.code)
        return word(gap) if word else CODE_WORDS.data_gap(gap)  # a code this wording does not know yet
    return gap


class ContractWords:
    """The card layer's wording of the contract's sentence fields (`contract.Words`)."""

    def regimen_warning(self, warning: RegimenWarning) -> str:
        parts = []
        if warning.retreatment:
            parts.append(retreatment_sentence(warning.retreatment))
        if warning.cautions:
            parts.append(caution_sentence(warning.cautions))
        if warning.reduced_intensity:
            parts.append(REDUCED_INTENSITY)
        return " ".join(parts)

    def data_gap(self, gap: DataGap) -> str:
        return gap_text(gap)


CONTRACT_WORDS = ContractWords()


def assessment_json(value: Any) -> Any:
    """The JSON contract form of an assessment (or part of one), sentences worded."""
    return to_json(value, CONTRACT_WORDS)

"""Anti-myeloma drug classes (docs/clinical-model.md#drug-classes), as data, in one place.

Keys are the contract's drug keys (docs/assessment-contract.md#drugs), values its class names.
Refractoriness categories count only the classes in REFRACTORY_CATEGORY_CLASSES; corticosteroids
never count for refractoriness (they are part of almost every regimen and say nothing about
resistance of the clone).
"""
from __future__ import annotations

DRUG_CLASS: dict[str, str] = {
    "thalidomide": "IMiD",
    "lenalidomide": "IMiD",
    "pomalidomide": "IMiD",
    "bortezomib": "PI",
    "carfilzomib": "PI",
    "ixazomib": "PI",
    "daratumumab": "anti-CD38",
    "isatuximab": "anti-CD38",
    "elotuzumab": "anti-SLAMF7",
    "belantamab-mafodotin": "BCMA-ADC",
    "teclistamab": "BCMA-bispecific",
    "elranatamab": "BCMA-bispecific",
    "linvoseltamab": "BCMA-bispecific",
    "idecabtagene-vicleucel": "BCMA-CAR-T",
    "ciltacabtagene-autoleucel": "BCMA-CAR-T",
    "talquetamab": "GPRC5D-bispecific",
    "cevostamab": "FcRH5-bispecific",
    "selinexor": "XPO1",
    "melphalan": "alkylator",
    "cyclophosphamide": "alkylator",
    "panobinostat": "HDAC",
    "venetoclax": "BCL2",
    "dexamethasone": "corticosteroid",
    "prednisolone": "corticosteroid",
}

CORTICOSTEROID = "corticosteroid"
PI, IMID, ANTI_CD38 = "PI", "IMiD", "anti-CD38"
# The three classes whose refractoriness defines single/double/triple-class/penta.
REFRACTORY_CATEGORY_CLASSES: tuple[str, ...] = (PI, IMID, ANTI_CD38)
# T-cell redirecting therapies: no bispecific or CAR-T for the frail; IVIG and CMV/EBV checks.
BISPECIFIC_CLASSES = frozenset({"BCMA-bispecific", "GPRC5D-bispecific", "FcRH5-bispecific"})
CAR_T_CLASSES = frozenset({"BCMA-CAR-T"})
T_CELL_REDIRECTING_CLASSES = BISPECIFIC_CLASSES | CAR_T_CLASSES
# Antibody and cellular therapies whose start needs hepatitis B/C and HIV serology (Table 1).
IMMUNOTHERAPY_CLASSES = frozenset({ANTI_CD38, "anti-SLAMF7", "BCMA-ADC"}) | T_CELL_REDIRECTING_CLASSES


def drug_class(drug: str) -> str | None:
    """Contract class name of a drug key, None for a drug the model does not know."""
    return DRUG_CLASS.get(drug)


def is_steroid(drug: str) -> bool:
    """Corticosteroids neither open a line of therapy nor count for refractoriness."""
    return DRUG_CLASS.get(drug) == CORTICOSTEROID

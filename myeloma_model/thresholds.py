"""Every clinical threshold of docs/clinical-model.md, in canonical units, in one place.

Rules import these names; tests import them too so a threshold is asserted from both sides
without repeating the number. The section of docs/clinical-model.md is named on each group;
the table docs/clinical-model.md#thresholds lists every name.
"""
from __future__ import annotations

# --- Section 2: markers, nadir, measurable disease -------------------------------------
FLC_RATIO_NORMAL_LOW = 0.26
FLC_RATIO_NORMAL_HIGH = 1.65
MEASURABLE_SERUM_M_PROTEIN_G_L = 10.0
MEASURABLE_URINE_M_PROTEIN_MG_24H = 200.0
MEASURABLE_INVOLVED_FLC_MG_L = 100.0
BASELINE_WINDOW_DAYS = 60  # a line's baseline: the latest result this many days before its start

# --- Section 3: progression (IMWG PD) ----------------------------------------------------
PD_RELATIVE_RISE = 0.25  # >= 25 % above nadir (serum, urine, dFLC)
PD_SERUM_ABSOLUTE_RISE_G_L = 5.0
PD_SERUM_ABSOLUTE_RISE_HIGH_NADIR_G_L = 10.0
PD_SERUM_HIGH_NADIR_G_L = 50.0  # nadir >= this needs the larger absolute rise
PD_URINE_ABSOLUTE_RISE_MG_24H = 200.0
PD_DFLC_ABSOLUTE_RISE_MG_L = 100.0  # strictly greater than
PD_MARROW_PLASMA_CELL_RISE_POINTS = 10.0

# --- Section 3: significant paraprotein relapse (SPR) ------------------------------------
SPR_DOUBLING_MIN_NADIR_G_L = 5.0
SPR_SERUM_ABSOLUTE_RISE_G_L = 10.0
SPR_URINE_ABSOLUTE_RISE_MG_24H = 500.0
SPR_FLC_ABSOLUTE_RISE_MG_L = 200.0
SPR_FLC_RELATIVE_RISE = 0.25

# --- Section 3: CRAB / clinical features ---------------------------------------------------
CRAB_CALCIUM_MMOL_L = 2.75  # strictly greater than
CRAB_HAEMOGLOBIN_FALL_G_L = 20.0
CRAB_CREATININE_RISE_UMOL_L = 177.0

# --- Section 3a: response to each line (IMWG 2016) ------------------------------------------
RESPONSE_VGPR_REDUCTION = 0.90  # serum M-protein reduction from the line's baseline
RESPONSE_PR_REDUCTION = 0.50  # serum M-protein; also dFLC when only FLC is measurable
RESPONSE_MR_REDUCTION = 0.25  # serum M-protein (MR 25-49 %)
URINE_VGPR_MG_24H = 100.0  # urine M-protein < this
URINE_PR_MG_24H = 200.0  # urine M-protein < this (or a reduction >= 90 %)
URINE_PR_REDUCTION = 0.90
URINE_MR_REDUCTION = 0.50  # urine MR 50-89 %
CR_MARROW_PLASMA_CELLS_PCT = 5.0  # CR needs marrow plasma cells < this when recorded
RESPONSE_PAIRING_DAYS = 30  # serum/urine (and immunofixation) results paired within this
BASELINE_AFTER_START_DAYS = 30  # no baseline before the line: the first result this soon after
DURABLE_RESPONSE_MONTHS = 12.0  # PR or better lasting >= this is durable (s7)

# --- Section 10: data freshness -----------------------------------------------------------------
FRESH_MAX_DAYS = 90  # latest marker <= this many days before as-of: fresh
AGING_MAX_DAYS = 180  # 91-180 days: aging; older: stale (timing confirm)
STALE_ACTIVE_MEDICATION_DAYS = 365  # "active" medication on evidence older than 12 months: data gap

# --- Section 4: timing / high-risk relapse features ----------------------------------------
HEAVY_MARROW_INFILTRATION_PCT = 60.0
EARLY_FIRST_RELAPSE_MONTHS = 24.0
RISING_B2M_RELATIVE = 0.25  # >= 25 % above its value at the start of the current line

# --- Section 5: lines of therapy and refractoriness ----------------------------------------
LINE_GROUPING_DAYS = 30
TRANSPLANT_MELPHALAN_WINDOW_DAYS = 30  # melphalan this close to an autograft is high-dose melphalan
REFRACTORY_WINDOW_DAYS = 60
CONSOLIDATION_AFTER_TRANSPLANT_DAYS = 180  # a new drug this soon after the line's autograft stays in it
ADMINISTRATION_CYCLE_DAYS = 28  # administrations-only exposure is 'on' this long after the last dose (activeAtRelapse; never the last dose)
RETREAT_MONTHS_ON_DRUG = 28.4  # strictly greater than favours retreatment
RETREAT_MONTHS_SINCE_LAST_DOSE = 46.1  # strictly greater than favours retreatment
DAYS_PER_MONTH = 30.44
PENTA_MIN_PI = 2
PENTA_MIN_IMID = 2
PENTA_MIN_ANTI_CD38 = 1

# --- Section 6: risk and fitness ---------------------------------------------------------------
ISS_B2M_LOW_MG_L = 3.5  # ISS I needs b2m < this
ISS_ALBUMIN_MIN_G_L = 35.0  # ISS I needs albumin >= this
ISS_B2M_HIGH_MG_L = 5.5  # ISS III at b2m >= this
LDH_DEFAULT_UPPER_U_L = 250.0  # when the Observation carries no reference range
STAGING_WINDOW_DAYS = 90
FRAIL_ECOG_MIN = 3
FRAIL_AGE_OVER = 80
INTERMEDIATE_ECOG = 2
INTERMEDIATE_AGE_MIN = 76
RENAL_DOSE_ADJUST_EGFR = 60.0  # eGFR < this
RENAL_SEVERE_EGFR = 30.0  # eGFR < this

# --- Section 7: strategy -----------------------------------------------------------------------
NOVEL_MECHANISM_MIN_PRIOR_LINES = 3
# Section 7.2: "stable beta-2 microglobulin with a long remission" needs a remission of >= this.
LONG_REMISSION_MONTHS = 24.0
# Section 7: "relapse soon after IMiD maintenance" (the rules give no number; see the docs).
SOON_AFTER_IMID_MONTHS = 12.0
# Section 7.1: CAR-T and bispecifics need ECOG <= this (the review: "ECOG statuses of above 2").
T_CELL_MAX_ECOG = 2

# --- Section 8: staleness of Table 1 investigations --------------------------------------------
STALE_LAB_DAYS = 30
STALE_IMAGING_DAYS = 90  # imaging, echo and marrow
RELAPSE_MARKERS_CURRENT_DAYS = 60  # the SPEP and FLC that established the relapse stay current
# Section 4 "repeat the marker to confirm" names no interval; the suspected-rise card proposes
# the repeat within this many days (IMWG: two consecutive assessments; stated on the card).
SUSPECTED_REPEAT_WITHIN_DAYS = 28

# --- Section 9: on-treatment safety ----------------------------------------------------------
IVIG_IGG_G_L = 4.0  # IgG < this on a bispecific or after CAR-T
# "Recurrent infections" (section 9 names no number; guidance states this assumption on the card):
RECURRENT_INFECTION_MIN_EPISODES = 2  # infection Conditions with onset ...
RECURRENT_INFECTION_WINDOW_DAYS = 365  # ... within this many days before as-of

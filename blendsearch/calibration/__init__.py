"""Calibrated match probabilities: the vector channel's temperature, the fused score's logistic model.

run = calibrate_index(engine, queries=load_queries("judged.jsonl"), catalog=read_catalog("products.csv"))
save_calibration(engine.index_dir, run.calibration)
engine.search("navy slacks").hits[0].probability
"""

from blendsearch.calibration.fit import CalibrationRun, calibrate_index, judged_hits, split_queries
from blendsearch.calibration.fused import FEATURE_NAMES, FusedCalibration, fit_fused, hit_features
from blendsearch.calibration.metrics import brier, expected_calibration_error, log_loss, reliability_diagram
from blendsearch.calibration.model import CALIBRATION_FILE, Calibration, load_calibration, save_calibration
from blendsearch.calibration.vector import VectorCalibration, catalogue_pairs, fit_temperature, split_indices

__all__ = [
    "CALIBRATION_FILE",
    "FEATURE_NAMES",
    "Calibration",
    "CalibrationRun",
    "FusedCalibration",
    "VectorCalibration",
    "brier",
    "calibrate_index",
    "catalogue_pairs",
    "expected_calibration_error",
    "fit_fused",
    "fit_temperature",
    "hit_features",
    "judged_hits",
    "load_calibration",
    "log_loss",
    "reliability_diagram",
    "save_calibration",
    "split_indices",
    "split_queries",
]

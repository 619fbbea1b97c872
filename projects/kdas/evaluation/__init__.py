from .polyp_metric import PolypMetric
from .protocol import aggregate, score_image, to_8bit_prediction
from .report import format_table, write_reports

__all__ = ['PolypMetric', 'aggregate', 'format_table', 'score_image', 'to_8bit_prediction',
           'write_reports']

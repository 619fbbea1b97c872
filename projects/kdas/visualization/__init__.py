from .overlay import COLOURS, draw_overlay
from .vis_backend import CheckedLocalVisBackend
from .visualizer import PolypVisualizer

__all__ = ['COLOURS', 'CheckedLocalVisBackend', 'PolypVisualizer', 'draw_overlay']

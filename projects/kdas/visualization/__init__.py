from .overlay import COLOURS, draw_overlay
from .visualizer import PolypVisualizer

__all__ = ['COLOURS', 'PolypVisualizer', 'draw_overlay']

from .polyp_pvt_head import PolypPVTHead

__all__ = ['PolypPVTHead']

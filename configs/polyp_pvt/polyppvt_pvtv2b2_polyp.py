# The KDAS teacher: Polyp-PVT on PVTv2-B2 (25.1 M parameters).
_base_ = './polyppvt_pvtv2b0_polyp.py'
model = dict(_delete_=True, **_base_.teacher_model)

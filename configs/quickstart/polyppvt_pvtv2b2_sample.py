# Quick start, step 1: a small Polyp-PVT B2 teacher on the embedded sample (CPU).
_base_ = './polyppvt_pvtv2b0_sample.py'
model = dict(_delete_=True, **_base_.teacher_model)
model.update(train_rates=(1.0, ), train_base_size=160)

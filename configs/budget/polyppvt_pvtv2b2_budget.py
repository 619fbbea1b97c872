# docs/results.md, row "teacher": PVTv2-B2 Polyp-PVT from scratch, 10 epochs, 160 px.
_base_ = './polyppvt_pvtv2b0_budget.py'
model = dict(_delete_=True, **_base_.teacher_model)
model.update(train_rates=(1.0, ), train_base_size=160)
train_cfg = dict(max_epochs=10, val_interval=10)

# docs/results.md, row "teacher30": the same B2 teacher trained 30 epochs instead of 10, so
# that its lead over the student is larger than seed noise. A checkpoint every epoch: the
# run (about 2.5 hours on 2 cores) resumes across sessions.
_base_ = './polyppvt_pvtv2b2_budget.py'
train_cfg = dict(max_epochs=30, val_interval=30)

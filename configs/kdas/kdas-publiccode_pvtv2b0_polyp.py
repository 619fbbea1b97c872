# The objective the public KDAS code effectively optimises (README, "The method"):
# its L_AT passes no gradient, and its L_SGM is the MSE of the symmetrised P1 logits at
# full size, so  L = 0.7 * L_seg + 0.3 * MSE(Sym(P1_S), Sym(P1_T)).
_base_ = [
    '../_base_/models/kdas-publiccode_polyp_pvt.py', '../_base_/datasets/polyp.py',
    '../_base_/schedules/adamw_100e.py', '../_base_/default_runtime.py'
]
model = dict(teacher_checkpoint=_base_.paper_teacher,
             student=dict(backbone=dict(init_cfg=_base_.imagenet_b0)))

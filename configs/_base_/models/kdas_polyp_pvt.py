# KDAS as the paper defines it: the Polyp-PVT B0 student distilled from a frozen Polyp-PVT
# B2 teacher with attention supervision (L_AT on P1 and P2) and the Symmetrical Guiding
# Module (L_SGM: KL on P1 pooled to 64 x 64), tau 2, alpha 0.3:
#   L = 0.7 * L_seg + 0.3 * (L_AT + L_SGM)
_base_ = './polyp_pvt.py'
tau = 2.0
teacher_checkpoint = None  # set by the config that trains
# Where configs/polyp_pvt/polyppvt_pvtv2b2_polyp.py leaves its last checkpoint.
paper_teacher = 'work_dirs/polyppvt_pvtv2b2_polyp/epoch_100.pth'
model = dict(
    _delete_=True,
    type='DistillationSegmentor',
    data_preprocessor=_base_.data_preprocessor,
    student=_base_.model,
    teacher=_base_.teacher_model,
    teacher_checkpoint=teacher_checkpoint,
    alpha=0.3,
    train_rates=_base_.model.train_rates,
    train_base_size=_base_.model.train_base_size,
    distiller=dict(
        type='RecordingDistiller',
        student_recorders=dict(p1='decode_head.out_cfm', p2='decode_head.out_sam'),
        teacher_recorders=dict(p1='decode_head.out_cfm', p2='decode_head.out_sam'),
        distill_losses=dict(
            loss_at=dict(type='AttentionSupervisionLoss', tau=tau, loss_weight=1.0),
            loss_sgm=dict(type='SGMLoss', mode='kl', pool_size=64, tau=tau,
                          loss_weight=1.0)),
        loss_inputs=dict(loss_at=['p1', 'p2'], loss_sgm=['p1'])))

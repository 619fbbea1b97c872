# Channel-wise distillation of the decoder features together with pixel-wise response KD on
# P1 and P2: CWD gained on Kvasir and pixel KD a little on both sets (docs/results.md), and
# both terms stay small next to the labels, so their sum should not crowd them out.
# alpha 0.3 scales the sum.
_base_ = './cwd_polyp_pvt.py'
logits = dict(p1='decode_head.out_cfm', p2='decode_head.out_sam')
model = dict(
    distiller=dict(
        student_recorders=logits,
        teacher_recorders=logits,
        resize_to_input=['p1', 'p2'],
        distill_losses=dict(loss_pixel_kd=dict(type='PixelResponseKDLoss', tau=2.0)),
        loss_inputs=dict(loss_pixel_kd=['p1', 'p2'])))

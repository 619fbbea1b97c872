# The objective the public KDAS code effectively optimises (README, "The method"):
# its L_AT passes no gradient, and its L_SGM is the MSE of the symmetrised P1 logits at
# full size, so  L = 0.7 * L_seg + 0.3 * MSE(Sym(P1_S), Sym(P1_T)).
# Like that code, the structure loss's BCE is the unweighted mean (its reduce='none' falls
# back to a plain mean) and the multi-scale schedule resizes masks bilinearly (soft edges).
_base_ = './kdas_polyp_pvt.py'
model = dict(
    train_label_resize='bilinear',
    student=dict(decode_head=dict(loss_decode=dict(weighted_bce=False))),
    distiller=dict(
        distill_losses=dict(
            _delete_=True,
            loss_sgm=dict(type='SGMLoss', mode='mse', pool_size=None, loss_weight=1.0)),
        loss_inputs=dict(_delete_=True, loss_sgm=['p1'])))

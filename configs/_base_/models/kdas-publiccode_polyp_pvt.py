# The objective the public KDAS code effectively optimises (README, "The method"):
# its L_AT passes no gradient, and its L_SGM is the MSE of the symmetrised P1 logits at
# full size, so  L = 0.7 * L_seg + 0.3 * MSE(Sym(P1_S), Sym(P1_T)).
_base_ = './kdas_polyp_pvt.py'
model = dict(
    distiller=dict(
        distill_losses=dict(
            _delete_=True,
            loss_sgm=dict(type='SGMLoss', mode='mse', pool_size=None, loss_weight=1.0)),
        loss_inputs=dict(_delete_=True, loss_sgm=['p1'])))

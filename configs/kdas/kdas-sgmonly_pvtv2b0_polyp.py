# Ablation: the Symmetrical Guiding Module only (no attention supervision).
_base_ = './kdas_pvtv2b0_polyp.py'
model = dict(
    distiller=dict(
        distill_losses=dict(
            _delete_=True,
            loss_sgm=dict(type='SGMLoss', mode='kl', pool_size=64, tau={{_base_.tau}},
                          loss_weight=1.0)),
        loss_inputs=dict(_delete_=True, loss_sgm=['p1'])))

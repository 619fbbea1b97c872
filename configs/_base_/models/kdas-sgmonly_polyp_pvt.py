# Ablation: the Symmetrical Guiding Module only (no attention supervision).
_base_ = './kdas_polyp_pvt.py'
model = dict(
    distiller=dict(
        distill_losses=dict(_delete_=True,
                            loss_sgm=_base_.model.distiller.distill_losses.loss_sgm),
        loss_inputs=dict(_delete_=True, loss_sgm=['p1'])))

# Ablation: attention supervision only (no SGM term).
_base_ = './kdas_pvtv2b0_polyp.py'
model = dict(
    distiller=dict(
        distill_losses=dict(
            _delete_=True,
            loss_at=dict(type='AttentionSupervisionLoss', tau={{_base_.tau}}, loss_weight=1.0)),
        loss_inputs=dict(_delete_=True, loss_at=['p1', 'p2'])))

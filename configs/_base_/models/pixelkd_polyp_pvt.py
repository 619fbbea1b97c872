# Baseline: pixel-wise response KD, the binary KL of the temperature-scaled sigmoid
# probabilities of P1 and P2 (no L_AT, no L_SGM), alpha 0.3.
_base_ = './kdas_polyp_pvt.py'
model = dict(
    distiller=dict(
        distill_losses=dict(_delete_=True,
                            loss_pixel_kd=dict(type='PixelResponseKDLoss', tau=2.0)),
        loss_inputs=dict(_delete_=True, loss_pixel_kd=['p1', 'p2'])))

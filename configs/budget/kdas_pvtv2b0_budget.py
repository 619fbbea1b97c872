# docs/results.md, row "KDAS (paper)": L_AT + L_SGM (KL), alpha 0.3, tau 2, 12 epochs, 160 px.
# tools/analysis_tools/reproduce_results.py passes the teacher checkpoint.
_base_ = [
    '../_base_/models/kdas_polyp_pvt.py', '../_base_/datasets/polyp_160.py',
    '../_base_/schedules/budget_cpu.py', '../_base_/default_runtime.py'
]
model = dict(train_rates=(1.0, ), train_base_size=160,
             distiller=dict(distill_losses=dict(loss_sgm=dict(pool_size=40))))

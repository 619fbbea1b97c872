# Baseline: channel-wise distillation (Shu et al., ICCV 2021) of the decoder's CFM and SAM
# features (32 channels in both networks), at their own stride-8 size; tau 4, weight 3 as
# in that paper's segmentation experiments; alpha 0.3.
_base_ = './kdas_polyp_pvt.py'
features = dict(_delete_=True, feat_cfm='decode_head.cfm', feat_sam='decode_head.sam')
model = dict(
    distiller=dict(
        student_recorders=features,
        teacher_recorders=features,
        resize_to_input=[],
        distill_losses=dict(
            _delete_=True,
            loss_cwd=dict(type='ChannelWiseDivergenceLoss', tau=4.0, loss_weight=3.0)),
        loss_inputs=dict(_delete_=True, loss_cwd=['feat_cfm', 'feat_sam'])))

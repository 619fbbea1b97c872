# The paper's evaluation: seen (Kvasir, CVC-ClinicDB) and unseen (CVC-ColonDB, ETIS,
# CVC-300) test sets in one run, one row each.
_base_ = './polyp.py'
test_dataloader = dict(
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            {{_base_.kvasir_test}}, {{_base_.clinicdb_test}}, {{_base_.colondb_test}},
            {{_base_.etis_test}}, {{_base_.cvc300_test}}
        ]))

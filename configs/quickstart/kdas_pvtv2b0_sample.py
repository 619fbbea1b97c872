# Quick start, step 2: distil the B0 student from the step-1 teacher with KDAS on the
# embedded sample (CPU). tools/quickstart.sh passes the teacher's checkpoint.
_base_ = [
    '../_base_/models/kdas_polyp_pvt.py', '../_base_/datasets/polyp_sample.py',
    '../_base_/schedules/sample_cpu.py', '../_base_/default_runtime.py'
]
model = dict(train_rates=(1.0, ), train_base_size=160,
             teacher_checkpoint='work_dirs/quickstart/teacher/latest.pth')

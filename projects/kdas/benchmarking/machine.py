"""What the benchmark tables name: the processor and the instruction sets that decide its
int8 and bf16 speed."""
import os
from typing import Dict

# /proc/cpuinfo flag -> what a table calls it
INSTRUCTION_SETS = (('avx2', 'AVX2'), ('avx512f', 'AVX-512'), ('avx512_vnni', 'AVX-512 VNNI'),
                    ('avx512_bf16', 'AVX-512 BF16'), ('amx_int8', 'AMX int8'),
                    ('amx_bf16', 'AMX bf16'))


def cpu_info(path: str = '/proc/cpuinfo') -> Dict[str, object]:
    """{'model': the processor's model name, 'flags': {name: present}}; an unreadable
    ``path`` (another OS) gives 'unknown' and no flags."""
    fields, flags = {}, set()
    try:
        with open(path) as f:
            for line in f:
                key, _, value = line.partition(':')
                key = key.strip()
                if key == 'flags':
                    flags = set(value.split())
                    break  # the first processor's fields are all read by now
                fields.setdefault(key, value.strip())
    except OSError:
        pass
    model = fields.get('model name', 'unknown')
    # virtual machines often report a generic name ("Intel(R) Xeon(R) Processor"): the
    # family and model numbers tell the generations apart
    if 'cpu family' in fields and 'model' in fields:
        model += f' (family {fields["cpu family"]}, model {fields["model"]})'
    return dict(model=model, flags={name: flag in flags for flag, name in INSTRUCTION_SETS})


def describe_cpu(info: Dict[str, object]) -> str:
    present = [name for name, has in info['flags'].items() if has]
    return (f'{info["model"]}, {os.cpu_count()} CPUs visible; '
            f'{", ".join(present) if present else "no AVX2"}')

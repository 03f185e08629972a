-- 002-catalog: the accelerator catalog and the names feeds use for each model.
-- Source: accelerators.csv (copied to tests/data/accelerators.csv, notes in
-- tests/data/README-accelerators.md), one row per CSV row.
-- Throughput figures are DENSE peak TFLOPS (INT8 in TOPS): vendor "with sparsity" numbers are
-- halved. An empty CSV cell means not supported or not published and is stored as 0.
-- fp64 is the FP64 tensor-core rate where the CSV gives one, else the plain FP64 rate.
-- memory_gib holds the marketed memory size exactly as the CSV gives it (decimal GB).
-- `confidence`: high = vendor datasheet, medium = vendor page/press, low = figures vary between
-- sources (verify before billing or hard routing decisions).

INSERT INTO accelerators (model, name, vendor, domestic, memory_gib, fp64, fp32, tf32, bf16, fp16, fp8, int8, confidence, source) VALUES
    ('V100', 'NVIDIA V100 SXM2', 'NVIDIA', 0, 32, 7.8, 15.7, 0, 0, 125, 0, 0, 'high', 'NVIDIA Tesla V100 datasheet'),
    ('V100-PCIE', 'NVIDIA V100 PCIe', 'NVIDIA', 0, 32, 7, 14, 0, 0, 112, 0, 0, 'high', 'NVIDIA Tesla V100 datasheet'),
    ('A100', 'NVIDIA A100 SXM4 80GB', 'NVIDIA', 0, 80, 19.5, 19.5, 156, 312, 312, 0, 624, 'high', 'NVIDIA A100 datasheet'),
    ('A100-PCIE-40GB', 'NVIDIA A100 PCIe 40GB', 'NVIDIA', 0, 40, 19.5, 19.5, 156, 312, 312, 0, 624, 'high', 'NVIDIA A100 datasheet'),
    ('A800', 'NVIDIA A800 SXM4 80GB', 'NVIDIA', 0, 80, 19.5, 19.5, 156, 312, 312, 0, 624, 'medium', 'NVIDIA A800 datasheet (China export variant)'),
    ('H100', 'NVIDIA H100 SXM5 80GB', 'NVIDIA', 0, 80, 67, 67, 494.5, 989.5, 989.5, 1979, 1979, 'high', 'NVIDIA H100 Tensor Core GPU datasheet'),
    ('H100-PCIE', 'NVIDIA H100 PCIe 80GB', 'NVIDIA', 0, 80, 51, 51, 378, 756, 756, 1513, 1513, 'high', 'NVIDIA H100 Tensor Core GPU datasheet'),
    ('H200', 'NVIDIA H200 SXM 141GB', 'NVIDIA', 0, 141, 67, 67, 494.5, 989.5, 989.5, 1979, 1979, 'high', 'NVIDIA H200 datasheet'),
    ('H800', 'NVIDIA H800 SXM5 80GB', 'NVIDIA', 0, 80, 1, 67, 494.5, 989.5, 989.5, 1979, 1979, 'medium', 'NVIDIA H800 datasheet (China export variant)'),
    ('H20', 'NVIDIA H20 96GB', 'NVIDIA', 0, 96, 1, 44, 74, 148, 148, 296, 296, 'medium', 'Widely reported H20 spec (no public NVIDIA datasheet); e.g. willitrunai.com/gpus/h20-96gb and Chinese press citing ''FP16 dense 148 TFLOPS'''),
    ('L40S', 'NVIDIA L40S 48GB', 'NVIDIA', 0, 48, 0, 91.6, 183, 362, 362, 733, 733, 'high', 'NVIDIA L40S datasheet'),
    ('RTX4090', 'NVIDIA GeForce RTX 4090 24GB', 'NVIDIA', 0, 24, 1.29, 82.6, 82.6, 165.2, 165.2, 330.3, 660.6, 'high', 'NVIDIA Ada Lovelace GPU architecture whitepaper (RTX 4090 column)'),
    ('Ascend910', 'Huawei Ascend 910', 'Huawei', 1, 32, 0, 0, 0, 0, 256, 0, 512, 'medium', 'Huawei Ascend 910 launch press release (Aug 2019)'),
    ('Ascend910B', 'Huawei Ascend 910B', 'Huawei', 1, 64, 0, 0, 0, 320, 320, 0, 640, 'low', 'Vendor/press figures vary by SKU (910B1..910B4); not from a per-SKU datasheet'),
    ('MLU370-X8', 'Cambricon MLU370-X8', 'Cambricon', 1, 48, 0, 24, 0, 96, 96, 0, 256, 'medium', 'Cambricon MLU370-X8 product page'),
    ('DCU-Z100', 'Hygon DCU Z100', 'Hygon', 1, 32, 10.1, 0, 0, 0, 0, 0, 0, 'low', 'Press reports on Hygon DCU Z100 (Shensuan-1)'),
    ('C500', 'MetaX C500', 'MetaX', 1, 64, 0, 0, 0, 0, 0, 0, 0, 'low', 'MetaX product announcements'),
    ('BR100', 'Biren BR100', 'Biren', 1, 64, 0, 256, 512, 1024, 0, 0, 2048, 'low', 'Biren BR100 launch / Hot Chips 2022 vendor claims');

-- Aliases: names feeds really use, resolved case-insensitively (alias is COLLATE NOCASE), so each
-- spelling is stored once: the short name V100 also matches the lower-case Slurm GRES type v100
-- (likewise a100, h100, h200, h800, 910b; code strips the gpu: prefix and :count). Every canonical
-- id is an alias of itself, and so is its full catalog name. Sources of spellings: nvidia-smi /
-- DCGM modelName ("NVIDIA A100-SXM4-80GB"), GPU Feature Discovery nvidia.com/gpu.product (spaces
-- replaced by '-'), GKE cloud.google.com/gke-accelerator, SkyPilot AcceleratorName (A100-80GB,
-- V100-32GB), and the short names operators write by hand.

-- V100 SXM2 32GB. 16 GB variants are not aliased: this row would overstate their memory.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('V100', 'V100'),
    ('NVIDIA V100 SXM2', 'V100'),
    ('V100-SXM2', 'V100'),
    ('V100-SXM2-32GB', 'V100'),
    ('V100-32GB', 'V100'),
    ('Tesla V100', 'V100'),
    ('NVIDIA Tesla V100', 'V100'),
    ('Tesla V100-SXM2-32GB', 'V100'),
    ('Tesla-V100-SXM2-32GB', 'V100'),
    ('NVIDIA V100-SXM2-32GB', 'V100'),
    ('nvidia-tesla-v100', 'V100');

-- V100 PCIe 32GB.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('V100-PCIE', 'V100-PCIE'),
    ('NVIDIA V100 PCIe', 'V100-PCIE'),
    ('V100-PCIE-32GB', 'V100-PCIE'),
    ('Tesla V100-PCIE-32GB', 'V100-PCIE'),
    ('Tesla-V100-PCIE-32GB', 'V100-PCIE'),
    ('NVIDIA V100-PCIE-32GB', 'V100-PCIE');

-- A100 80GB (SXM4, and the 80GB PCIe card: same dense rates, same memory). SkyPilot A100-80GB.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('A100', 'A100'),
    ('NVIDIA A100 SXM4 80GB', 'A100'),
    ('A100-80GB', 'A100'),
    ('A100-SXM4-80GB', 'A100'),
    ('NVIDIA A100-SXM4-80GB', 'A100'),
    ('NVIDIA-A100-SXM4-80GB', 'A100'),
    ('A100-SXM-80GB', 'A100'),
    ('NVIDIA A100-SXM-80GB', 'A100'),
    ('NVIDIA-A100-SXM-80GB', 'A100'),
    ('A100-PCIE-80GB', 'A100'),
    ('NVIDIA A100 80GB PCIe', 'A100'),
    ('NVIDIA-A100-80GB-PCIe', 'A100'),
    ('nvidia-a100-80gb', 'A100');

-- A100 40GB. The 40GB SXM4 part (and GKE nvidia-tesla-a100, which is it) maps here, not to A100:
-- the dense rates are identical and this row has the right memory.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('A100-PCIE-40GB', 'A100-PCIE-40GB'),
    ('NVIDIA A100 PCIe 40GB', 'A100-PCIE-40GB'),
    ('A100-40GB', 'A100-PCIE-40GB'),
    ('NVIDIA A100-PCIE-40GB', 'A100-PCIE-40GB'),
    ('NVIDIA-A100-PCIE-40GB', 'A100-PCIE-40GB'),
    ('A100-SXM4-40GB', 'A100-PCIE-40GB'),
    ('NVIDIA A100-SXM4-40GB', 'A100-PCIE-40GB'),
    ('NVIDIA-A100-SXM4-40GB', 'A100-PCIE-40GB'),
    ('nvidia-tesla-a100', 'A100-PCIE-40GB');

-- A800 80GB (SXM4 and 80GB PCIe).
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('A800', 'A800'),
    ('NVIDIA A800 SXM4 80GB', 'A800'),
    ('A800-80GB', 'A800'),
    ('A800-SXM4-80GB', 'A800'),
    ('NVIDIA A800-SXM4-80GB', 'A800'),
    ('NVIDIA-A800-SXM4-80GB', 'A800'),
    ('NVIDIA A800 80GB PCIe', 'A800'),
    ('NVIDIA-A800-80GB-PCIe', 'A800');

-- H100 SXM5 80GB: nvidia-smi/DCGM "NVIDIA H100 80GB HBM3", GFD "NVIDIA-H100-80GB-HBM3", SkyPilot/Slurm h100.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('H100', 'H100'),
    ('NVIDIA H100 SXM5 80GB', 'H100'),
    ('H100-80GB', 'H100'),
    ('H100-SXM', 'H100'),
    ('H100-SXM5', 'H100'),
    ('H100-SXM5-80GB', 'H100'),
    ('NVIDIA H100 80GB HBM3', 'H100'),
    ('NVIDIA-H100-80GB-HBM3', 'H100'),
    ('nvidia-h100-80gb', 'H100'),
    ('nvidia-h100-mega-80gb', 'H100');

-- H100 PCIe 80GB.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('H100-PCIE', 'H100-PCIE'),
    ('NVIDIA H100 PCIe 80GB', 'H100-PCIE'),
    ('H100-PCIE-80GB', 'H100-PCIE'),
    ('NVIDIA H100 PCIe', 'H100-PCIE'),
    ('NVIDIA-H100-PCIe', 'H100-PCIE');

-- H200 SXM 141GB (Slurm gres h200 in the slurmrestd fixtures).
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('H200', 'H200'),
    ('NVIDIA H200 SXM 141GB', 'H200'),
    ('H200-141GB', 'H200'),
    ('NVIDIA H200', 'H200'),
    ('NVIDIA-H200', 'H200'),
    ('nvidia-h200-141gb', 'H200');

-- H800 SXM5 80GB.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('H800', 'H800'),
    ('NVIDIA H800 SXM5 80GB', 'H800'),
    ('H800-80GB', 'H800'),
    ('H800-SXM5', 'H800'),
    ('NVIDIA H800', 'H800'),
    ('NVIDIA-H800', 'H800'),
    ('NVIDIA H800 80GB HBM3', 'H800'),
    ('NVIDIA-H800-80GB-HBM3', 'H800');

-- H20 96GB.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('H20', 'H20'),
    ('NVIDIA H20 96GB', 'H20'),
    ('H20-96GB', 'H20'),
    ('NVIDIA H20', 'H20'),
    ('NVIDIA-H20', 'H20');

-- L40S 48GB.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('L40S', 'L40S'),
    ('NVIDIA L40S 48GB', 'L40S'),
    ('L40S-48GB', 'L40S'),
    ('NVIDIA L40S', 'L40S'),
    ('NVIDIA-L40S', 'L40S');

-- GeForce RTX 4090 24GB.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('RTX4090', 'RTX4090'),
    ('NVIDIA GeForce RTX 4090 24GB', 'RTX4090'),
    ('4090', 'RTX4090'),
    ('RTX-4090', 'RTX4090'),
    ('RTX 4090', 'RTX4090'),
    ('RTX_4090', 'RTX4090'),
    ('GeForce RTX 4090', 'RTX4090'),
    ('NVIDIA GeForce RTX 4090', 'RTX4090'),
    ('NVIDIA-GeForce-RTX-4090', 'RTX4090');

-- First-generation Ascend 910 (910A). Kubernetes label accelerator=huawei-Ascend910 maps here;
-- the resource name huawei.com/Ascend910 is shared by 910A and 910B, so adapters need a per-center option.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('Ascend910', 'Ascend910'),
    ('Huawei Ascend 910', 'Ascend910'),
    ('910', 'Ascend910'),
    ('910A', 'Ascend910'),
    ('Ascend-910', 'Ascend910'),
    ('Ascend 910', 'Ascend910'),
    ('Ascend910A', 'Ascend910'),
    ('huawei-Ascend910', 'Ascend910');

-- Ascend 910B (64 GB SKUs 910B1..910B3; 910B4 has 32 GB and is not aliased).
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('Ascend910B', 'Ascend910B'),
    ('Huawei Ascend 910B', 'Ascend910B'),
    ('910B', 'Ascend910B'),
    ('Ascend-910B', 'Ascend910B'),
    ('Ascend 910B', 'Ascend910B'),
    ('910B1', 'Ascend910B'),
    ('910B2', 'Ascend910B'),
    ('910B3', 'Ascend910B'),
    ('Ascend910B1', 'Ascend910B'),
    ('Ascend910B2', 'Ascend910B'),
    ('Ascend910B3', 'Ascend910B');

-- Cambricon MLU370-X8.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('MLU370-X8', 'MLU370-X8'),
    ('Cambricon MLU370-X8', 'MLU370-X8'),
    ('MLU370', 'MLU370-X8'),
    ('Cambricon MLU370', 'MLU370-X8');

-- Hygon DCU Z100.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('DCU-Z100', 'DCU-Z100'),
    ('Hygon DCU Z100', 'DCU-Z100'),
    ('Z100', 'DCU-Z100'),
    ('DCU Z100', 'DCU-Z100');

-- MetaX C500 (compute rates unpublished: feeds should state tflops).
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('C500', 'C500'),
    ('MetaX C500', 'C500'),
    ('MXC500', 'C500');

-- Biren BR100.
INSERT INTO accelerator_aliases (alias, model) VALUES
    ('BR100', 'BR100'),
    ('Biren BR100', 'BR100');

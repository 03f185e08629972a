-- 003-regions: the default regions and the published inter-city latencies between them.
-- Regions are China's main compute cities and the East Data West Computing (东数西算) national hub
-- sites. Coordinates are the city centre in decimal degrees (WGS84, 2 decimals); a hub site and
-- its city are one region (Shanghai covers Qingpu and Lingang, Hohhot covers Horinger, Guiyang
-- covers Gui'an, Chengdu covers Tianfu). `hub` is the national hub the city belongs to, or NULL.

INSERT INTO regions (id, city, lat, lon, hub) VALUES
    ('cn-beijing',     'Beijing (北京)',                    39.90, 116.41, 'jing-jin-ji'),
    ('cn-tianjin',     'Tianjin (天津)',                    39.13, 117.20, 'jing-jin-ji'),
    ('cn-zhangjiakou', 'Zhangjiakou (张家口)',              40.77, 114.88, 'jing-jin-ji'),
    ('cn-shanghai',    'Shanghai (上海)',                   31.23, 121.47, 'yangtze-delta'),
    ('cn-hangzhou',    'Hangzhou (杭州)',                   30.27, 120.16, 'yangtze-delta'),
    ('cn-nanjing',     'Nanjing (南京)',                    32.06, 118.80, 'yangtze-delta'),
    ('cn-hefei',       'Hefei (合肥)',                      31.82, 117.23, 'yangtze-delta'),
    ('cn-wuhu',        'Wuhu (芜湖)',                       31.33, 118.38, 'yangtze-delta'),
    ('cn-suzhou',      'Suzhou (苏州)',                     31.30, 120.59, 'yangtze-delta'),
    ('cn-guangzhou',   'Guangzhou (广州)',                  23.13, 113.26, 'greater-bay'),
    ('cn-shenzhen',    'Shenzhen (深圳)',                   22.54, 114.06, 'greater-bay'),
    ('cn-shaoguan',    'Shaoguan (韶关)',                   24.81, 113.60, 'greater-bay'),
    ('cn-chengdu',     'Chengdu (成都)',                    30.57, 104.07, 'chengdu-chongqing'),
    ('cn-chongqing',   'Chongqing (重庆)',                  29.56, 106.55, 'chengdu-chongqing'),
    ('cn-guiyang',     'Guiyang (贵阳, Gui''an 贵安)',      26.65, 106.63, 'guizhou'),
    ('cn-hohhot',      'Hohhot (呼和浩特, Horinger 和林格尔)', 40.84, 111.75, 'inner-mongolia'),
    ('cn-ulanqab',     'Ulanqab (乌兰察布)',                40.99, 113.13, 'inner-mongolia'),
    ('cn-qingyang',    'Qingyang (庆阳)',                   35.71, 107.64, 'gansu'),
    ('cn-zhongwei',    'Zhongwei (中卫)',                   37.51, 105.19, 'ningxia'),
    ('cn-wuhan',       'Wuhan (武汉)',                      30.59, 114.31, NULL),
    ('cn-changsha',    'Changsha (长沙)',                   28.23, 112.94, NULL),
    ('cn-xian',        'Xi''an (西安)',                     34.34, 108.94, NULL),
    ('cn-zhengzhou',   'Zhengzhou (郑州)',                  34.75, 113.63, NULL),
    ('cn-jinan',       'Jinan (济南)',                      36.65, 117.12, NULL),
    ('cn-qingdao',     'Qingdao (青岛)',                    36.07, 120.38, NULL),
    ('cn-taiyuan',     'Taiyuan (太原)',                    37.87, 112.55, NULL),
    ('cn-lanzhou',     'Lanzhou (兰州)',                    36.06, 103.83, NULL),
    ('cn-urumqi',      'Urumqi (乌鲁木齐)',                 43.83,  87.62, NULL),
    ('cn-harbin',      'Harbin (哈尔滨)',                   45.80, 126.53, NULL),
    ('cn-shenyang',    'Shenyang (沈阳)',                   41.81, 123.43, NULL),
    ('cn-xiamen',      'Xiamen (厦门)',                     24.48, 118.09, NULL),
    ('cn-fuzhou',      'Fuzhou (福州)',                     26.07, 119.30, NULL),
    ('cn-kunming',     'Kunming (昆明)',                    25.04, 102.72, NULL),
    ('cn-nanning',     'Nanning (南宁)',                    22.82, 108.37, NULL);

-- Latency: only the city-pair rows of latency-cn.csv (copied to tests/data/latency-cn.csv, see
-- tests/data/README-latency-cn.md) whose two ends are regions above. Policy targets (1/5/20 ms)
-- and vague ends ("any", "YRD-major-cities", "GBA-cities", "eight-national-hubs", in-province)
-- are left out; "Chengdu/Chongqing" and "Guangzhou/Shenzhen" rows give one entry per city.
-- Published official/vendor figures do not say one-way or round-trip; they are stored as given
-- and marked 'configured'. Only the two explicit ping RTTs (blog_measured) are 'measured'.
-- "<X ms" claims hold X, an upper bound. Pairs are stored once with a < b. Every other pair is
-- estimated by the broker from great-circle distance at run time.
INSERT INTO latency (a, b, rtt_ms, source, note, updated_at) VALUES
    ('cn-chengdu',   'cn-guiyang',   6,    'configured', 'published: official_claim, China Daily on Gui''an data cluster (to Chengdu-Chongqing), 2023-08', 1763769600000),
    ('cn-chongqing', 'cn-guiyang',   6,    'configured', 'published: official_claim, China Daily on Gui''an data cluster (to Chengdu-Chongqing), 2023-08', 1763769600000),
    ('cn-guangzhou', 'cn-guiyang',   10,   'configured', 'published: official_claim, China Daily on Gui''an data cluster (to GBA), 2023-08', 1763769600000),
    ('cn-guiyang',   'cn-shenzhen',  10,   'configured', 'published: official_claim, China Daily on Gui''an data cluster (to GBA), 2023-08', 1763769600000),
    ('cn-guiyang',   'cn-shanghai',  15,   'configured', 'published: official_claim, China Daily on Gui''an data cluster (to YRD), 2023-08', 1763769600000),
    ('cn-beijing',   'cn-guiyang',   20,   'configured', 'published: official_claim, China Daily on Gui''an data cluster (to BTH), 2023-08', 1763769600000),
    ('cn-guangzhou', 'cn-shaoguan',  1.3,  'configured', 'published: official_claim, China Daily ''Shaoguan launches data infrastructure projects'', 2025-06', 1763769600000),
    ('cn-shaoguan',  'cn-shenzhen',  1.66, 'configured', 'published: official_claim, China Daily ''Shaoguan launches data infrastructure projects'', 2025-06', 1763769600000),
    ('cn-shanghai',  'cn-wuhu',      4,    'configured', 'published: vendor_claim, China United Data Wuhu park press release, 2024-10', 1763769600000),
    ('cn-beijing',   'cn-taiyuan',   10,   'configured', 'published: official_claim, China Daily Shanxi NPC motion, 2022-03', 1763769600000),
    ('cn-beijing',   'cn-tianjin',   2,    'configured', 'published: vendor_claim, Chayora TJ1 announcement (<2 ms to Beijing IX, upper bound), 2018', 1763769600000),
    ('cn-beijing',   'cn-shanghai',  28.6, 'measured',   'published: blog_measured, yunthe.com Beijing cloud latency (avg ping; p95 35.2 ms), 2023', 1763769600000),
    ('cn-hangzhou',  'cn-wuhan',     15,   'measured',   'published: blog_measured, heiok.com Wuhan egress via Hangzhou (ping), 2025', 1763769600000),
    ('cn-beijing',   'cn-zhongwei',  10,   'configured', 'published: web_claim, oryoy.com on Zhongwei (<10 ms to Beijing, unverified), 2024', 1763769600000);

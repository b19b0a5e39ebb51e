#!/usr/bin/env python3
# A hindsight forecast for the sparse global-sample sets (bench/forecast/RESULTS.md section 4):
# per unit, the empirical distribution of its own monthly fatalities over the scored months
# 2016-02..2021-01 (it knows each unit's five-year frequency and sizes). Prints its CRPS over
# the zero forecast's (the mean outcome). Not a strict bound: a model that follows changes
# within the five years can beat a stationary forecast.
# Usage: bench/forecast/hindsight.py [DATASETS_DIR]   (default ../shared/datasets)
import csv, collections, sys
d = sys.argv[1] if len(sys.argv) > 1 else '../shared/datasets'
rows=list(csv.DictReader(open(d + '/ucdp-ged-sample-global/ucdpged_sample_1000.csv')))
def crps_emp(vals, y):
    n=len(vals); s=sorted(vals)
    e1=sum(abs(v-y) for v in s)/n
    e2=sum((2*i-n+1)*v for i,v in enumerate(s))*2/(n*n)
    return e1-0.5*e2
def months(a,b):
    out=[]; y,m=a
    while (y,m)<=b:
        out.append((y,m)); m+=1
        if m>12: y,m=y+1,1
    return out
test=months((2016,2),(2021,1))
for country,unitkey in [('Syria','adm_1'),('Afghanistan','adm_1'),('India','adm_1'),('Mexico','adm_1'),('DR Congo (Zaire)','adm_1'),('Pakistan','adm_1'),(None,'country')]:
    ev=[r for r in rows if (country is None or r['country']==country) and r[unitkey]]
    units=sorted(set(r[unitkey] for r in ev))
    val=collections.defaultdict(float)
    for r in ev:
        y,m=int(r['date_start'][:4]),int(r['date_start'][5:7])
        val[(r[unitkey],(y,m))]+=float(r['best'])
    tot_or=tot_zero=0
    for u in units:
        ys=[val[(u,t)] for t in test]
        tot_zero+=sum(ys)
        tot_or+=sum(crps_emp(ys,y) for y in ys)
    print(f"{country or 'all countries'}: units {len(units)}, hindsight/zero {tot_or/tot_zero:.3f}")
